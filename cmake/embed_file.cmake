# Turns a binary file into a C array: cmake -DIN=file -DOUT=out.c -DSYMBOL=name -P embed_file.cmake
file(READ ${IN} HEX HEX)
string(LENGTH "${HEX}" HEX_LEN)
math(EXPR N "${HEX_LEN} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," BYTES "${HEX}")
file(WRITE ${OUT} "#include <stddef.h>\nconst unsigned char ${SYMBOL}[] = {${BYTES}};\nconst size_t ${SYMBOL}_size = ${N};\n")
