export * from "./client.js";
export type { components, paths } from "./schema.gen.js";
