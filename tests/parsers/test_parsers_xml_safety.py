"""Hostile and broken XML: refused with stable codes, never read files or the network."""

from __future__ import annotations

import codecs
import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree  # type: ignore[import-untyped, unused-ignore]

import gateway.parsers.cii as cii
import gateway.parsers.ubl as ubl
from gateway.errors import InputError, LimitExceeded, UnsafeInput
from gateway.limits import Limits
from gateway.parsers.xml_safety import DOCTYPE_MESSAGE, new_hardened_parser, parse_xml, sniff_root

LIMITS = Limits()
UBL_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CII_NS = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&lol9;</Invoice>"""


@pytest.fixture
def secret_file(tmp_path: Path) -> tuple[Path, str]:
    marker = f"SECRET-MARKER-{time.time_ns()}"
    path = tmp_path / "secret.txt"
    path.write_text(marker, encoding="utf-8")
    return path, marker


@pytest.fixture
def listening_port() -> Iterator[tuple[int, list[bool]]]:
    """A local TCP port that records whether anything connected to it."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.2)
    connected: list[bool] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connected.append(True)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], connected
    stop.set()
    thread.join(timeout=1)
    server.close()


def refused(data: bytes, limits: Limits = LIMITS) -> InputError:
    with pytest.raises(InputError) as caught:
        parse_xml(data, limits)
    return caught.value


# --------------------------------------------------------------------------- DOCTYPE and entities


def test_xxe_to_a_local_file_is_refused_and_never_read(secret_file: tuple[Path, str]) -> None:
    path, marker = secret_file
    data = (
        f'<?xml version="1.0"?>\n<!DOCTYPE Invoice [<!ENTITY xxe SYSTEM "{path.as_uri()}">]>\n'
        f'<Invoice xmlns="{UBL_NS}"><ID>&xxe;</ID></Invoice>'
    ).encode()
    error = refused(data)
    assert isinstance(error, UnsafeInput)
    assert error.code == "GW-XML-DOCTYPE"
    assert str(error) == DOCTYPE_MESSAGE
    assert error.location == "line 2"
    result = ubl.parse(data, LIMITS)
    assert result.documents == () and [i.code for i in result.issues] == ["GW-XML-DOCTYPE"]
    assert marker not in repr(result)


def test_the_parser_itself_never_expands_external_entities(secret_file: tuple[Path, str]) -> None:
    """Second line of defence: even if the prolog scan were bypassed, nothing is read."""
    path, marker = secret_file
    data = f'<!DOCTYPE r [<!ENTITY xxe SYSTEM "{path.as_uri()}">]><r>&xxe;</r>'.encode()
    root = etree.fromstring(data, new_hardened_parser())
    assert marker not in etree.tostring(root).decode()


def _opened_while_parsing(data_for: Callable[[str], bytes], tmp_path: Path) -> bool:
    """Parse with the bare hardened parser and tell whether it opened a file it was pointed at.

    The file is a FIFO: a reader that opens it blocks until a writer comes, and a
    non-blocking open for writing succeeds only while a reader has it open.
    """
    fifo = tmp_path / "probe.fifo"
    os.mkfifo(fifo)
    data = data_for(fifo.as_uri())
    worker = threading.Thread(target=lambda: _parse_quietly(data), daemon=True)
    worker.start()
    opened = False
    deadline = time.monotonic() + 0.5
    while worker.is_alive() and time.monotonic() < deadline:
        try:
            descriptor = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            time.sleep(0.01)
            continue
        opened = True
        os.close(descriptor)  # the reader sees end-of-file and the parse goes on
    worker.join(timeout=2)
    return opened


def _parse_quietly(data: bytes) -> None:
    with contextlib.suppress(etree.XMLSyntaxError):
        etree.fromstring(data, new_hardened_parser())


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
@pytest.mark.parametrize(
    "template",
    [
        '<!DOCTYPE r SYSTEM "{url}"><r/>',
        '<!DOCTYPE r [<!ENTITY % ext SYSTEM "{url}"> %ext;]><r/>',
        '<!DOCTYPE r [<!ENTITY ext SYSTEM "{url}">]><r>&ext;</r>',
    ],
)
def test_the_parser_never_opens_external_dtds_or_entities(template: str, tmp_path: Path) -> None:
    assert not _opened_while_parsing(lambda url: template.format(url=url).encode(), tmp_path)


def test_external_parameter_entity_is_refused_and_never_read(
    tmp_path: Path, secret_file: tuple[Path, str]
) -> None:
    path, marker = secret_file
    dtd = tmp_path / "evil.dtd"
    dtd.write_text(f'<!ENTITY leak SYSTEM "{path.as_uri()}">', encoding="utf-8")
    data = f'<!DOCTYPE r [<!ENTITY % ext SYSTEM "{dtd.as_uri()}"> %ext;]><r>&leak;</r>'.encode()
    assert refused(data).code == "GW-XML-DOCTYPE"
    try:
        root = etree.fromstring(data, new_hardened_parser())
    except etree.XMLSyntaxError:
        return  # libxml2 refusing the undefined entity is just as good
    assert marker not in etree.tostring(root).decode()


def test_billion_laughs_returns_fast() -> None:
    started = time.perf_counter()
    error = refused(BILLION_LAUGHS)
    assert error.code == "GW-XML-DOCTYPE"
    result = ubl.parse(BILLION_LAUGHS, LIMITS)
    assert [i.code for i in result.issues] == ["GW-XML-DOCTYPE"]
    assert time.perf_counter() - started < 1.0


def test_network_dtd_is_refused_without_connecting(listening_port: tuple[int, list[bool]]) -> None:
    port, connected = listening_port
    data = f'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:{port}/x.dtd"><r/>'.encode()
    assert refused(data).code == "GW-XML-DOCTYPE"
    etree.fromstring(data, new_hardened_parser())  # the bare parser does not fetch it either
    time.sleep(0.3)
    assert connected == []


def test_doctype_after_comments_and_processing_instructions_is_found() -> None:
    data = b'<?xml version="1.0"?>\n<!-- a -->\n<?pi x?>\n<!-- b --><!DOCTYPE r><r/>'
    error = refused(data)
    assert (error.code, error.location) == ("GW-XML-DOCTYPE", "line 4")


def test_doctype_behind_a_prolog_longer_than_the_scan_window_is_found() -> None:
    data = b"<!--" + b"x" * 20_000 + b"--><!DOCTYPE r><r/>"
    assert refused(data).code == "GW-XML-DOCTYPE"


def test_doctype_text_inside_a_comment_is_harmless() -> None:
    root = parse_xml(b"<!-- <!DOCTYPE r> --><r>ok</r>", LIMITS)
    assert root.text == "ok"


def test_utf16_doctype_is_found() -> None:
    data = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r SYSTEM "file:///etc/passwd"><r/>'.encode(
        "utf-16"
    )
    assert refused(data).code == "GW-XML-DOCTYPE"


def test_utf7_cannot_smuggle_a_doctype() -> None:
    """In UTF-7 ``<!DOCTYPE`` is not visible to a byte scan: the encoding itself is refused."""
    body = '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'.encode("utf-7")
    error = refused(b'<?xml version="1.0" encoding="UTF-7"?>' + body)
    assert error.code == "GW-XML-ENCODING"
    assert "UTF-7" in str(error)


# --------------------------------------------------------------------------- broken files


def test_malformed_xml_gives_line_and_column() -> None:
    error = refused(b"<r>\n  <a>text</b>\n</r>")
    assert error.code == "GW-XML-MALFORMED"
    assert error.location == "line 2, column 14"
    assert "Opening and ending tag mismatch" in str(error)
    assert ", line" not in str(error)  # the position is in ``location``, not repeated


@pytest.mark.parametrize("data", [b"", b"   \r\n\t ", codecs.BOM_UTF8 + b"\n ", " \n".encode("utf-16")])
def test_empty_or_blank_file(data: bytes) -> None:
    assert refused(data).code == "GW-FILE-EMPTY"


def test_oversized_file_is_refused_before_parsing() -> None:
    error = refused(b"<r>" + b"x" * 200 + b"</r>", Limits(max_xml_bytes=100))
    assert isinstance(error, LimitExceeded)
    assert error.code == "GW-FILE-TOO-LARGE"
    assert parse_xml(b"<r/>", Limits(max_xml_bytes=4)).tag == "r"


@pytest.mark.parametrize(
    "declaration",
    ['encoding="UTF-8_W/O_BOM"', 'encoding="no-such-charset"', "encoding='EBCDIC-US'"],
)
def test_bogus_or_unsupported_encoding_declaration(declaration: str) -> None:
    error = refused(f'<?xml version="1.0" {declaration}?><r/>'.encode())
    assert error.code == "GW-XML-ENCODING"
    assert error.location == "line 1"


def test_bytes_that_do_not_match_the_encoding() -> None:
    error = refused('<?xml version="1.0" encoding="UTF-8"?><r>é</r>'.encode("latin-1"))
    assert error.code == "GW-XML-ENCODING"
    assert error.location is not None and error.location.startswith("line 1, column")


@pytest.mark.parametrize(
    "data",
    [
        "<r/>".encode("utf-32"),
        '<?xml version="1.0" encoding="IBM037"?><r/>'.encode("cp037"),
        "<r/>".encode("utf-16-le"),  # no BOM, no declaration
        b'<?xml version="1.0" encoding="UTF-16"?><r/>',  # declared UTF-16 but 8-bit bytes
    ],
)
def test_encodings_we_do_not_read(data: bytes) -> None:
    assert refused(data).code == "GW-XML-ENCODING"


def test_excessive_nesting_is_refused_by_libxml2_limits() -> None:
    assert refused(b"<a>" * 5000 + b"</a>" * 5000).code == "GW-XML-MALFORMED"


# --------------------------------------------------------------------------- what must still work


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (codecs.BOM_UTF8 + '<?xml version="1.0" encoding="UTF-8"?><r>été</r>'.encode(), "été"),
        ('<?xml version="1.0" encoding="UTF-16"?><r>été</r>'.encode("utf-16"), "été"),
        (codecs.BOM_UTF16_BE + '<?xml version="1.0"?><r>été</r>'.encode("utf-16-be"), "été"),
        ('<?xml version="1.0" encoding="ISO-8859-1"?><r>été</r>'.encode("latin-1"), "été"),
        ("<?xml version='1.0' encoding='windows-1252'?><r>€</r>".encode("cp1252"), "€"),
    ],
)
def test_accepted_encodings_and_byte_order_marks(data: bytes, text: str) -> None:
    assert parse_xml(data, LIMITS).text == text


def test_processing_instructions_are_dropped_and_comments_kept_harmless() -> None:
    root = parse_xml(b'<r><?xml-stylesheet href="x"?><!-- note --><a>1</a></r>', LIMITS)
    assert [child.tag for child in root if isinstance(child.tag, str)] == ["a"]
    assert not any(isinstance(child, etree._ProcessingInstruction) for child in root)


def test_xinclude_is_not_processed(secret_file: tuple[Path, str]) -> None:
    path, marker = secret_file
    data = (
        f'<r xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="{path.as_uri()}" parse="text"/></r>'
    ).encode()
    assert marker not in etree.tostring(parse_xml(data, LIMITS)).decode()


def test_parse_is_safe_from_several_threads() -> None:
    documents = [f"<r><n>{i}</n></r>".encode() for i in range(200)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        numbers = list(pool.map(lambda d: parse_xml(d, LIMITS).findtext("n"), documents))
    assert numbers == [str(i) for i in range(200)]


# --------------------------------------------------------------------------- sniffing


def test_sniff_root_reads_prefix_and_default_namespaces() -> None:
    head = f'\ufeff<?xml version="1.0"?>\n<!-- c -->\n<Invoice xmlns:cac="x" xmlns="{UBL_NS}">'.encode()
    root = sniff_root(head)
    assert root is not None and (root.namespace, root.local_name) == (UBL_NS, "Invoice")
    head = f"<rsm:CrossIndustryInvoice xmlns:rsm='{CII_NS}' xmlns:ram='y'>".encode("utf-16")
    root = sniff_root(head)
    assert root is not None and (root.namespace, root.local_name) == (CII_NS, "CrossIndustryInvoice")


def test_a_doctype_does_not_hide_the_root_from_sniffing() -> None:
    """The file must reach its parser, which refuses it with GW-XML-DOCTYPE (not "unknown format")."""
    data = BILLION_LAUGHS
    assert ubl.sniff(data, "x.xml") and not cii.sniff(data, "x.xml")
    head = f'<!DOCTYPE r SYSTEM "http://127.0.0.1:9/x.dtd"><!-- c --><Invoice xmlns="{UBL_NS}"/>'.encode()
    assert ubl.sniff(head, "x.xml")


@pytest.mark.parametrize(
    "head",
    [b"", b"invoice_number;type_code\r\n", b"<!-- unterminated", b"<Invoice", b"\x00\x00\x00<"],
)
def test_sniff_root_gives_up_quietly(head: bytes) -> None:
    assert sniff_root(head) is None


def test_sniffers_claim_only_their_namespace() -> None:
    ubl_head = f'<Invoice xmlns="{UBL_NS}">'.encode()
    cii_head = f'<rsm:CrossIndustryInvoice xmlns:rsm="{CII_NS}">'.encode()
    wrong_prefix = f'<x:CrossIndustryInvoice xmlns:rsm="{CII_NS}" xmlns:x="other">'.encode()
    assert ubl.sniff(ubl_head, "a.xml") and not cii.sniff(ubl_head, "a.xml")
    assert cii.sniff(cii_head, "a.pdf") and not ubl.sniff(cii_head, "a.xml")
    assert not cii.sniff(wrong_prefix, "a.xml")
    assert not ubl.sniff(b"invoice_number;type_code\r\n1;380", "invoice.xml")


# --------------------------------------------------------------------------- fuzzing


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_only_ever_raise_input_errors(data: bytes) -> None:
    try:
        parse_xml(data, LIMITS)
    except InputError as error:
        assert error.code.startswith("GW-")


_MARKUP = st.sampled_from(
    [
        "<r>",
        "</r>",
        "<a x='1'>",
        "</a>",
        "<!--",
        "-->",
        "<?xml version='1.0'?>",
        "<?pi?>",
        "<!DOCTYPE r>",
        "<![CDATA[",
        "]]>",
        "&amp;",
        "&x;",
        "&#0;",
        "&#x10FFFF;",
        "\ufeff",
        "é",
        "\x00",
        " ",
        "\n",
        "<b/>",
        '<?xml version="1.0" encoding="UTF-16"?>',
        "<!ENTITY x 'y'>",
        "xmlns='urn:x'",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_MARKUP, max_size=12), st.sampled_from(["utf-8", "utf-16", "latin-1"]))
def test_xml_like_fragments_only_ever_raise_input_errors(parts: list[str], encoding: str) -> None:
    data = "".join(parts).encode(encoding, errors="replace")
    try:
        root = parse_xml(data, LIMITS)
    except InputError as error:
        assert error.code.startswith("GW-")
    else:
        assert root.getroottree().docinfo.doctype == ""
    for parser in (ubl, cii):
        result = parser.parse(data, LIMITS)
        assert result.documents == () and result.issues and all(i.is_fatal for i in result.issues)
