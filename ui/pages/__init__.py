"""One module per screen: search, person, due-next-month."""
