"""Measuring tools apart from the domains: seeding, the index lab, the like lab, the bench.

The lab measures tables, so unlike a domain app it may read the domains' models
and their table and index names; everything else goes through their services.
No domain app imports the lab (import-linter holds it).
"""
