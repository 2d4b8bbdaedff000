/* memnet: not written yet */
