/* ledger: not written yet */
