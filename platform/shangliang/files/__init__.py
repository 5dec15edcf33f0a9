"""Photos and attachments: direct signed uploads, background checks, galleries, signed downloads."""
