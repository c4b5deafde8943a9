/* wordcount: counts the words of standard input, as Quire's index does. */
#include <ctype.h>
#include <stdio.h>

int main(void) {
	int c, words = 0, in = 0;
	while ((c = getchar()) != EOF) {
		if (isspace(c)) {
			in = 0;
		} else if (!in) {
			in = 1;
			words++;
		}
	}
	printf("%d words\n", words);
	return 0;
}
