"""PROVIDERS: the one list of providers. A sixth provider is one more line here."""

from sandbox.providers import fire, nextcommerce, nuweb, purpledot, shoplazza

PROVIDERS = (
    fire.PROVIDER,
    purpledot.PROVIDER,
    nuweb.PROVIDER,
    shoplazza.PROVIDER,
    nextcommerce.PROVIDER,
)
