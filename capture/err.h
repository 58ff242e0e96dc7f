/* err.h - error codes shared by every module: 0 or a negative enum err value. */
#ifndef FM_ERR_H
#define FM_ERR_H

enum err {
    ERR_OK = 0,
    ERR_NOMEM = -1,   /* an allocation failed */
    ERR_IO = -2,      /* reading or writing a file or device failed */
    ERR_FORMAT = -3,  /* input is not in the expected format */
    ERR_ARG = -4,     /* a bad option or argument */
    ERR_PERM = -5,    /* permission denied */
    ERR_FULL = -6,    /* a cap or queue is full */
    ERR_EOF = -7,     /* no more input */
    ERR_AGAIN = -8,   /* nothing now, try again (live capture timeout) */
    ERR_DB = -9,      /* the database refused */
};

/* Parser results: bytes consumed (>= 0), or one of these. */
enum {
    NEED_MORE = -100,  /* input ran out; call again with more */
    MALFORMED = -101,  /* input violates the format; stop parsing this stream */
};

#define FM_WUR __attribute__((warn_unused_result))

#endif
