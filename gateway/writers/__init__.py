"""Writers: model -> bytes for the factor, the client and accountants."""
