"""The platform: what every feature stands on and no feature is.

Configuration, the database session, Flask extensions, access rules, headers, languages,
the audit log, the task queue, mail delivery, the Warsaw clock and safe spreadsheets.
Nothing here imports a feature package; features register with it (task handlers,
signals) instead.
"""
