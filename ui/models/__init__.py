"""Qt item models over the frozen DTOs returned by ``desktop.services``."""
