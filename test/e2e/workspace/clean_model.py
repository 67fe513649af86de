"""The same classifier with ReLU and He initialization: nothing to report."""
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Dense(256, activation="relu", kernel_initializer="he_normal", input_shape=(784,)),
    layers.Dense(128, activation="relu", kernel_initializer="he_normal"),
    layers.Dense(64, activation="relu", kernel_initializer="he_normal"),
    layers.Dense(32, activation="relu", kernel_initializer="he_normal"),
    layers.Dense(10, activation="softmax"),
])

model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="sparse_categorical_crossentropy")
