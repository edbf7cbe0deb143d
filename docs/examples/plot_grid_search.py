"""
=====================================================
Tuning an autoencoder step with GridSearchCV, and PCA
=====================================================

An autoencoder is one more transformer in a ``Pipeline``: the same grid
search tunes its ``n_components`` as PCA's, and the two can be compared on
the classifier's cross-validated accuracy.
"""

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer

X, y = load_digits(return_X_y=True)
X, y = X[:900], y[:900]

autoencoder = AutoencoderTransformer(
    max_iter=50, learning_rate="cosine", learning_rate_init=0.01, tol=0, random_state=0
)
pipe = Pipeline(
    [
        ("scale", StandardScaler()),
        ("reduce", autoencoder),
        ("classify", LogisticRegression(max_iter=2000)),
    ]
)
grid = {"reduce": [autoencoder, PCA()], "reduce__n_components": [4, 8, 16]}
search = GridSearchCV(pipe, grid, cv=3).fit(X, y)

results = pd.DataFrame(search.cv_results_)
results["reducer"] = results["param_reduce"].map(lambda r: type(r).__name__)
table = results.pivot_table(
    index="param_reduce__n_components", columns="reducer", values="mean_test_score"
)
print(table.round(3))
print("best:", search.best_params_)

# %%
# Mean cross-validated accuracy, with its standard deviation over the 3
# folds as error bars.
fig, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
for reducer, rows in results.groupby("reducer"):
    rows = rows.sort_values("param_reduce__n_components")
    ax.errorbar(
        rows["param_reduce__n_components"].astype(int),
        rows["mean_test_score"],
        yerr=rows["std_test_score"],
        marker="o",
        capsize=3,
        label=reducer,
    )
ax.set_xticks(grid["reduce__n_components"])
ax.set_xlabel("n_components")
ax.set_ylabel("cross-validated accuracy")
ax.set_title("Logistic regression on the reduced digits")
ax.legend()
plt.show()
