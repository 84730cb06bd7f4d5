"""Small dialogs used by the pages."""
