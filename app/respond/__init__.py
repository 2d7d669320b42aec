"""Web interviewing: the respondent's pages, personal links and the survey preview."""
