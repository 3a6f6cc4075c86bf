"""Who may ask what: API keys and their scopes and brands (``keys``), the check of a request's
key (``guard``), masked PII (``masking``) and the audit log (``audit``)."""
