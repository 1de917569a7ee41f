"""Kiali's routing wizards as pure functions: a wizard's input (``inputs``) and the service's subsets become the
DestinationRule and VirtualService it writes (``generate``). No Django, no network: the dashboard's wizard pages
(``dashboard.wizard_views``) gather the input and write the objects through ``istio_config.writes.apply_change``.
"""
