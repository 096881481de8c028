"""What both processes (API and worker) share on the HTTP side: middleware (request id,
metrics, access log, body limit), error handlers, JSON encoding in and out, and logging."""
