"""The desk: the secretariat's web pages (Django), beside the pipeline and never around it.

It runs as its own Unix user, holds no case data, no password and no key: everything it shows or submits goes
through the gateway (`pipeline.gateway.client`), which checks scope and records every view. It may import only
`pipeline.core` and the gateway's client and protocol (tests/test_architecture.py). See docs/desk.md.
"""
