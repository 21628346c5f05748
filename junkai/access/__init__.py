"""Who may see what. Every read of personal data goes through a funnel:

- `junkai.access.roles`: who holds which role where today, and the scopes that follow (org only:
  the organisation's own actions ask them too);
- `junkai.access.units`: the organisation's units (beats and maps, administration, dashboards,
  a post's registers);
- each app's `access.py` (`households`, `visits`, `registers`, `disclosures`): its records;
- `junkai.access.records`: the one way a funnel refuses (404 alike for absent and out of scope,
  the denial audited);
- `junkai.access.declare`: the rule each view declares, which the URL walk test checks;
  `junkai.access.http`: the typed request and the signed-in guard of function views.

A page may ask a predicate what to show; the action enforces the rule itself.
"""
