"""What analysts take away: response tables and codebooks, reports, SPSS/Stata files."""
