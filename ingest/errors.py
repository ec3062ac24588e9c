"""Named errors of policykb. Every message says what went wrong and what to do next.

    PolicyKBError
    ├── InputError               a source file cannot be ingested (the CLI reports it per file)
    │   ├── UnsupportedFormat     not a type we read (.txt .html .docx .pdf .md, scans and images, .ofd,
    │   │                         .doc .wps .rtf .odt)
    │   │   └── ConverterMissing  a .doc/.wps/.rtf/.odt while LibreOffice is not installed
    │   ├── EmptyDocument         no text at all
    │   ├── FileTooLarge          over the configured size limit
    │   ├── UndecodableText       not UTF-8, GB18030/GBK or Big5
    │   ├── ScannedPDF            a scan or image in which OCR found no text
    │   ├── TooManyPages          a scan or OFD with more pages than the page limit
    │   ├── ConversionFailed      LibreOffice could not convert a .doc/.wps/.rtf/.odt, or ran past its timeout
    │   ├── EncryptedFile         a password-protected PDF or DOCX
    │   ├── CorruptFile           a broken PDF or DOCX container
    │   └── UnsafeArchive         a DOCX or OFD whose zip is a bomb or has path-traversal entries, DOCX XML
    │                             beyond the part, element or paragraph bounds; a PDF whose streams
    │                             inflate beyond the limits or a page that draws too much; an image over
    │                             the pixel limit
    ├── ParseError               text was read but no document structure could be found
    ├── DocumentConflict         another version of the document is stored and the write did not ask
    │                             to replace it (an upload replaces only when it names the document)
    ├── StoreError               the SQLite store is missing, locked or of another format
    ├── IndexFormatError         a derived index or vector file of another format or encoder
    └── NotFound                 a document or clause id that is not in the store
"""


class PolicyKBError(Exception):
    """Base of every error policykb raises on purpose."""


class InputError(PolicyKBError):
    """A source file that cannot be ingested; the message names the file and the reason."""


class UnsupportedFormat(InputError):
    pass


class EmptyDocument(InputError):
    pass


class FileTooLarge(InputError):
    pass


class UndecodableText(InputError):
    pass


class ConverterMissing(UnsupportedFormat):
    pass


class ScannedPDF(InputError):
    pass


class TooManyPages(InputError):
    pass


class ConversionFailed(InputError):
    pass


class EncryptedFile(InputError):
    pass


class CorruptFile(InputError):
    pass


class UnsafeArchive(InputError):
    pass


class ParseError(PolicyKBError):
    pass


class DocumentConflict(PolicyKBError):
    pass


class StoreError(PolicyKBError):
    pass


class IndexFormatError(PolicyKBError):
    pass


class NotFound(PolicyKBError):
    pass
