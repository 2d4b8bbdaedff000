/* timesync: not written yet */
