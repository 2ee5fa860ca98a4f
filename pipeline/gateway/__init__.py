"""The gateway: the only way the desk (a web process under its own Unix user) reaches the pipeline's data.

It runs as the pipeline's user on a Unix socket only the desk's group can open (`server`), answers a fixed set of
operations (`service.Gateway`), checks each asking user's scope, writes the NEN 7513 record before it returns
data, and drops what the desk submits into `inbox/` as a case file. The desk imports only `client` and
`protocol` from here (tests/test_architecture.py). Design and threat model: docs/desk.md.
"""
