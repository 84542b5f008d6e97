#include <libxml/tree.h>
#include <libxml/xmlsave.h>
