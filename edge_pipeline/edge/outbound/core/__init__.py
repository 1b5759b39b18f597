"""What every outbound report family shares: file naming, errors, the streaming reader driver,
structure checking, the XML writer, column types and the XSDs rendered from the layouts."""
