"""Single sign-on through OpenID Connect (mozilla-django-oidc), off unless ``MESH_UI_OIDC_CLIENT_ID`` is set.

``sso.config`` reads the settings and the role map (pure), ``clients.oidc`` fetches the provider's discovery
document, ``sso.backend`` and ``sso.views`` extend the library's flow (lazy discovery, issuer and audience checks,
audited failures), and ``sso.sync`` links the provider's users to Django users and gives them the grants their
claims map to, through Django groups named ``oidc:<claim value>``.
"""
