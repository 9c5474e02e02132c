// CAR: CARv1/CARv2 streaming reader and writer.
