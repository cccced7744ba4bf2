"""The platform's Ed25519 signing keys: checkpoints, decisions and evidence bundles are signed here.

:func:`tradeguard.signing.model.verify_signature` needs nothing but the public
keys, so auditors verify offline; :class:`tradeguard.signing.service.PlatformKeys`
creates, rotates and uses the keys.
"""
