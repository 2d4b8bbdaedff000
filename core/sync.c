/* sync: not written yet */
