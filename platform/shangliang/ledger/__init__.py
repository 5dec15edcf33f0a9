"""The member ledger (履职档案): what each CPPCC member of a street did in a period and the points the
county's scale gives it (operations), its pages (views) and Excel files (exports)."""
