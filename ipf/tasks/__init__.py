"""Processing tasks: one thin function per task of the task tables, ``fn(ctx: TaskContext)``."""
