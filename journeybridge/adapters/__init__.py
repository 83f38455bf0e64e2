"""Shop adapters: each knows its platform's API and the journey model, nothing about stages.

- :mod:`journeybridge.adapters.woocommerce`: the WooCommerce REST API (wc/v3).
- :mod:`journeybridge.adapters.prestashop`: the PrestaShop Webservice (1.7 / 8.x).
- :mod:`journeybridge.adapters.http`: the retry policy and helpers both platforms share.
"""
