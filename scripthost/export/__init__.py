"""Columnar export: one Arrow table per event type, built from the native core's
batches column by column (no Python object per event), and the writers of
`scripthost export` (Parquet, Arrow IPC, CSV, JSON lines), partitioned by time.

    schema.py    the Arrow schema of an event type, from its sample layout and tracepoint format
    columns.py   the consumer that gathers each batch's records into columns
    writers.py   datasets on disk: DIR/EVENT/part-NNNN.EXT
    command.py   `scripthost export`
"""
