"""REST handlers under ``{base_url}hpc/``; each parses, awaits a service, and finishes."""
