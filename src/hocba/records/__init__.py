"""Học bạ số on the Django side (issue 5): generation from the released grade book, the signing workflow
(subject teachers → GVCN → principal → school seal), issue, revocation and new versions, the registry of
every issued document and every copy given out, and the pages and commands around them. The documents
themselves are made by ``hocba.documents`` and signed by ``hocba.signing``; see docs/records.md."""
