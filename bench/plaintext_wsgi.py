"""WSGI entry point of the plaintext build, for the benchmark only: `gunicorn --pythonpath bench
plaintext_wsgi:app`. The same application as ``portal.wsgi``, with the keyring's seal/open replaced by the
identity transform (``identity_cipher``) before the app is created. Serve it only a database seeded with
that same transform."""

from __future__ import annotations

import identity_cipher

identity_cipher.install()

from portal.app import create_app  # noqa: E402  (after the cipher is replaced)

app = create_app()
