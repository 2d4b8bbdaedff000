/* netsim: not written yet */
