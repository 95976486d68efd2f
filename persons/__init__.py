"""Key persons (重点人员): one person, one file (一人一档) — levels, level history, visits, the file's queries.

``cadence`` says when a visit falls due (pure), ``commands`` holds every write a person makes (grade, record a
visit, unmask an id: each checked, written and audited once), ``queries`` the scoped lists and the file.
"""
