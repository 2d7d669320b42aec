"""Response exports: the XLSX workbook (responses, codebook, calls, dispositions) and CSV."""
