"""One module per resource turns solver results into wire answers: shape, search, plan, invert,
export; ``views`` projects a full answer onto the basic view."""
