"""The organisation file (org.yaml): read and check it (`file`, `values`), apply it (`apply`), load the demo.

A use case above `pipeline`: applying the file may hand a dropped rep's leads back (pipeline.ownership).
"""
