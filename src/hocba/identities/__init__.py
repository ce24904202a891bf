"""Staff signing identities (chứng thư số của cán bộ và con dấu số của trường): which certificate signs for
whom, held where (server PKCS#12, PKCS#11 token, remote CSC service), and the ``service`` that turns them
into ``hocba.signing`` signers for the rest of the application."""
