"""Results files in tests: asked for through the web form, waited on, downloaded; LibreOffice."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

from tests.support import unavailable


def wait_for_file(client, job_page: str, states=("done", "failed"), timeout: float = 60.0) -> dict:
    """Poll a results file's status until it is in one of ``states``; the status."""
    deadline = time.monotonic() + timeout
    while True:
        status = client.get(f"{job_page}/status").get_json()
        if status["state"] in states:
            return status
        assert time.monotonic() < deadline, f"the file is still {status}"
        time.sleep(0.05)


def prepare_file(client, fieldwork_id: int, timeout: float = 60.0, **fields) -> bytes:
    """Ask for a results file through the web form, wait until it is ready, download it.

    ``fields`` are the form's fields (``kind="report"`` or ``"csv"``, ``by="subregion"``,
    ``labels="y"``).
    """
    data = {"kind": "responses", **fields}
    response = client.post(f"/fieldwork/{fieldwork_id}/files", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    job_page = response.headers["Location"]
    assert job_page.startswith("/files/")
    status = wait_for_file(client, job_page, timeout=timeout)
    assert status["state"] == "done", status
    with client.get(status["download"]) as download:
        assert download.status_code == 200
        assert "attachment" in download.headers["Content-Disposition"]
        expected = {
            "csv": "text/csv",
            "sav": "spss-sav",
            "dta": "stata-dta",
            "document": "wordprocessingml.document",
            "attachments": "application/zip",  # the files sent with file questions
        }.get(data["kind"], "spreadsheetml.sheet")
        zipped = download.mimetype == "application/zip" and data["kind"] in ("csv", "sav", "dta")
        assert zipped or download.mimetype.endswith(expected), download.mimetype  # a zip:
        # the responses file of a questionnaire with lists, one file per sheet
        body = download.get_data()
    assert len(body) == status["size"]
    return body


def libreoffice_sheets(workbook, outdir) -> dict[str, list[list[str]]]:
    """Convert ``workbook`` with headless LibreOffice Calc to CSV, every sheet; read them back.

    Fails (under CI=true) or skips when LibreOffice is not installed; fails when the
    conversion reports an error or leaves a sheet out.
    """
    soffice = shutil.which("soffice")
    if soffice is None:
        unavailable("LibreOffice (Debian libreoffice-calc) is not installed: make office-deps")
    outdir = Path(outdir)
    profile = outdir / "lo-profile"
    # every sheet to its own UTF-8 (76) comma-separated file: the last token (-1) = all sheets
    csv_filter = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    result = subprocess.run(
        [
            soffice,
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{profile}",
            "--convert-to",
            csv_filter,
            "--outdir",
            str(outdir / "csv"),
            str(workbook),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    assert "Error" not in result.stderr and "Error" not in result.stdout, result.stdout
    sheets = {}
    stem = Path(workbook).stem
    for path in sorted((outdir / "csv").glob(f"{stem}-*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            sheets[path.stem[len(stem) + 1 :]] = list(csv.reader(handle))
    return sheets


def libreoffice_pdf_text(document, outdir) -> str:
    """Convert ``document`` (DOCX) with headless LibreOffice Writer to PDF; its text.

    Fails (under CI=true) or skips when LibreOffice Writer is not installed; fails when the
    conversion reports an error or writes no PDF. The text is read with pdftotext when it
    is there, else the PDF's size is checked only (an empty string is returned).
    """
    soffice = shutil.which("soffice")
    if soffice is None or shutil.which("lowriter") is None:
        unavailable("LibreOffice Writer (Debian libreoffice-writer) is not installed")
    outdir = Path(outdir)
    result = subprocess.run(
        [
            soffice,
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{outdir / 'lo-profile'}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(outdir / "pdf"),
            str(document),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    assert "Error" not in result.stderr and "Error" not in result.stdout, result.stdout
    pdf = outdir / "pdf" / (Path(document).stem + ".pdf")
    assert pdf.exists() and pdf.stat().st_size > 1000, result.stdout
    assert pdf.read_bytes().startswith(b"%PDF")
    return pdf.read_bytes().decode("latin-1")


def responses_file(data: bytes, extension: str) -> bytes:
    """The responses' own file of a download: the file itself, or, for a questionnaire
    with lists (a zip of one file per sheet), its ``odpowiedzi.<extension>``."""
    if not data.startswith(b"PK\x03\x04") or extension == "xlsx":
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return package.read(f"odpowiedzi.{extension}")
