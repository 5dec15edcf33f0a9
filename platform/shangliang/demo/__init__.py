"""Demo data, out of the runtime modules: the seed tenants of tenants/demo/ with their brands,
rosters and meetings, and a year of generated history for benchmarking (`shangliang demo load`)."""
from .load import demo_logins, ensure_platform, load_demo

__all__ = ["demo_logins", "ensure_platform", "load_demo"]
