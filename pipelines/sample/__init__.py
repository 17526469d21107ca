"""Synthetic CSDLQG extract + sector registries with ground truth (`doisoat sample`).

Read in this order: `generator.py` (the whole flow, file formats), `persons.py` (households,
ages, parents, twins, deaths), `names.py` (name pools), `places.py` (real 2025 communes and their
pre-2025 wards), `idnumbers.py` (12-digit IDs, CMND, BHXH), `registries.py` and `land.py` (who is
on each roll, row rendering, truth), `defects.py` (defect functions and their configured rates).
"""
