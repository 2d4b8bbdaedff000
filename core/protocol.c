/* protocol: not written yet */
