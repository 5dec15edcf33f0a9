"""Moving a tenant between installations: export to a zip (data as JSON, its files), import it."""
