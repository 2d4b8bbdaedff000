/* input_queue: not written yet */
