from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "aftercare.flows"
    label = "flows"
    verbose_name = "Flows (triggers, waits, conditions, actions)"

    def ready(self) -> None:
        from aftercare.core import privacy_registry
        from aftercare.customers import merging as customer_merging
        from aftercare.flows import matcher, merging, privacy, runner, schedule
        from aftercare.jobs import worker

        # Every worker matches new events and runs due steps; both claim their work safely
        # (a locked cursor per store; leased steps), so any number of workers may run them.
        worker.register_poller("flows.match_events", matcher.match_pending, every_seconds=1)
        worker.register_poller("flows.run_due_steps", runner.run_due, every_seconds=1)
        worker.register_periodic("flows.scheduled_triggers", schedule.scan_all, every_seconds=3600)
        privacy_registry.register_eraser("flows", privacy.erase_flow_runs, order=45)
        customer_merging.register("flows", merging.merge_runs)
