"""Read models folded from the log, one module per read model."""

from projections.queue_list import LIVE, PRIORITY_RANK, QueueList, sort_key, summary

__all__ = ["LIVE", "PRIORITY_RANK", "QueueList", "sort_key", "summary"]
