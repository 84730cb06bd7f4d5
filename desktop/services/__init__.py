"""Use cases over the database. They take and return plain data (frozen dataclasses or dicts),
never ORM objects, so callers on any thread can hold the results."""
