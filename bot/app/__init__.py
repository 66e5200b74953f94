"""The one assembly place: the commands, the ``serve`` process, the survey runtime and the operator
commands. Only this package imports ``adapters`` and ``jobs``; the core below it knows neither."""
